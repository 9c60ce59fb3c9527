"""Electronic referrals from region clinicians to municipal counselling, with a closed loop."""
