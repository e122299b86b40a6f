"""Funds-chain tracing (资金链查控): follow victims' money forward hop by hop, across banks, in
time order and amount-aware, to where it rests or leaves; propose the stop-payments that
catch what is still held. `model` holds the values; the index and the trace itself are pure
computation; the workflow's use cases (a trace as the police run it, its batch stop-payment)
take the actor."""
