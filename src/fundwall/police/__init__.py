"""Police orders (公安指令): account query, emergency stop-payment, freeze, renewal and
release, routed to the holding bank, in force at once, answered by the bank, and ended by
their legal timers. Every public function of the package's modules (outside `queries`) is a
use case."""
