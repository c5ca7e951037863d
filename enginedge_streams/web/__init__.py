"""HTTP views served by each worker's Faust web server."""
