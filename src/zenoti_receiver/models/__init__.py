"""Pydantic models of what Zenoti sends."""
