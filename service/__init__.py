"""Atende's application: models, domain services, the pipeline, the API and the web pages."""
