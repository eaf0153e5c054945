"""The demo data a newcomer sees first (`manage.py seed_demo`)."""
