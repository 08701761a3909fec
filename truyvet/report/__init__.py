"""``truyvet report``: the summary a district sends to the provincial Department of Information
and Communications, drawn from the API's report JSON as CSV, printable HTML (A4) and PDF."""
