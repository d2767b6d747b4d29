"""The sandbox's HTTP side: a simulated customer writes and reads what they received."""
