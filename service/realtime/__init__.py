"""Realtime: the broker that carries events between workers, and the websocket endpoint."""
