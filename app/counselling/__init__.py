"""The counselling tab: visit records and the activity plan made jointly with the patient."""
