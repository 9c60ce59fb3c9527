"""Work that spans domains, above their services: what follows in scheduling and counselling
when a referral moves on, what a recorded visit does to its appointment and referral, a plan's
follow-ups booked as appointments. Routers, pages, the command line and the demo call a flow
where an action spans domains; a flow calls the domains' services; no service calls a flow, or
another domain's service (`tests/test_layers.py`)."""
