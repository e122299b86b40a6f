"""Of several replicas, one at a time runs the server's timers (order expiry, score refresh,
screening, the SMS outbox), so no SMS goes out twice; another takes them over when it stops."""

from __future__ import annotations

from replicas import namespace, redis_url

from fundwall.engine.shared import SharedState


def test_one_replica_at_a_time_runs_the_timers() -> None:
    url = redis_url()
    with namespace(url) as name:
        first, second = SharedState(url, namespace=name), SharedState(url, namespace=name)
        assert first.leads_timers() and first.leads_timers()  # taken, then renewed
        assert not second.leads_timers()
        first.redis.delete(first._global("timers"))  # its holder stopped: the lease ran out
        assert second.leads_timers() and not first.leads_timers()
        first.close()
        second.close()
