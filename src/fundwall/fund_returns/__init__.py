"""Return of frozen money (资金返还): frozen money traceable to victims goes back to them —
directly to one victim, or allocated in proportion to the traced losses of several — after a
published plan's objection period, executed by the bank within its working days, with
receipts. Every public function of the package's modules (outside `queries`) is a use
case."""
