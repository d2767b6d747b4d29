"""pandas frames and metric definitions over Atende's database."""
