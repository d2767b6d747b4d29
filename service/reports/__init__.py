"""Reports: the dashboard's figures of a day and the reports over a period (summary, agents,
queues, volume, backlog, CSAT), computed in the database with the definitions of
docs/metrics.md, as JSON or CSV."""
