"""Local emulators of CRM APIs: real servers on 127.0.0.1 for tests and demos."""
