"""Web app for HR, principals and union representatives (FastAPI + Jinja2 + htmx)."""
