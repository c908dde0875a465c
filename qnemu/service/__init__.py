"""The service layer: tenants arriving and leaving, SLA windows, the northbound API."""
