#!/bin/sh
# kafka-principals' entrypoint: runs its command with every broker of the quorum as
# KAFKA_BOOTSTRAP_SERVERS. `shaobao kafka provision` writes that list into each client file,
# so the worker, web and simulator bootstrap from whichever broker is up, not node 1 alone.
set -eu
. "$(dirname "$0")/kafka-topology.sh"
export KAFKA_BOOTSTRAP_SERVERS="$KAFKA_QUORUM_BOOTSTRAP"
exec "$@"
