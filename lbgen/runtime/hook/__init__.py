"""`lbgen hook`: keeps keepalived's real servers equal to the backend's live endpoints."""
