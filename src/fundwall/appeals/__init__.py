"""Appeals (异议申诉): a person whose account a bank restricted appeals through the public
portal; the bank that decided reviews the appeal against a deadline, with the anti-fraud
centre's opinion when it asks, and ends it lifted (at once, in the engine) or maintained,
with a reasoned answer. docs/public.md.

`filing` is the person's side, `review` the bank's, the police unit's and the hub's;
`queries` the rows they share; `words` what each measure says to its holder."""
