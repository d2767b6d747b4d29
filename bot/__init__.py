"""WhatsApp channels: the Channel protocol and its implementations (neonize, sandbox)."""
