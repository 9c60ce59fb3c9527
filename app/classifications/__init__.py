"""THL's national classifications as Askel uses them: one contact-mode vocabulary for
referrals, scheduling and visits, and the code lists a visit is reported to the outpatient
register (Avohilmo) with. Data and pure functions only: no domain imports this package's
siblings, and it imports no domain."""
