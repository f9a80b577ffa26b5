"""A user's own settings: profile (name, contacts, password, language, time zone), two-factor
log-in and active sessions."""
