"""Messages an agent writes now for the customer to receive later."""
