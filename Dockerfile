# The Shaobao image: `shaobao worker`, `shaobao web` and `shaobao simulate` (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# The dependencies in a layer of their own, read from pyproject.toml: a code change does
# not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY . .
# Editable (-e): the code finds its reference data (data/) relative to the source tree,
# which a plain `pip install .` would leave behind.
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 10001 shaobao \
    && mkdir -p /var/lib/shaobao/worker /var/lib/shaobao/state/kafka \
    && chown -R shaobao /var/lib/shaobao

USER shaobao
ENV SHAOBAO_WORKER_DATADIR=/var/lib/shaobao/worker
EXPOSE 8080
CMD ["shaobao", "--help"]
