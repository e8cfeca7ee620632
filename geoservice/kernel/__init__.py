"""The kernel: settings, database connections and pools, errors and problem+json, messages
(i18n), the clock. It imports nothing else of the project; everything else may import it."""
