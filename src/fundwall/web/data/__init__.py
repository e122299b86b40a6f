"""The console's reads and the few changes it makes, each checking the actor's rights and
narrowing its queries to what the actor's tenancy allows."""
