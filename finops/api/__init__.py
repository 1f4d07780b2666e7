"""The REST API, /api/v1/finops/*: FastAPI over the same `finops` functions as the pages (no Streamlit here)."""
