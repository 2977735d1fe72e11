"""The wire contract: pydantic models for every payload on every topic.

Imports nothing of ours. Every payload carries `schema_version`.
"""
