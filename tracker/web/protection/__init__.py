"""支援措置 (protected persons, issue 14): the flag's forms and pages."""
