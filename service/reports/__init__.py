"""Reports: the dashboard's figures, computed in the database."""
