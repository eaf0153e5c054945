"""Webhooks: endpoints people register, signed events the worker delivers (docs/webhooks.md)."""
