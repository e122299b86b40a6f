"""The decision engine: features, rules, models and the decision they add up to."""
