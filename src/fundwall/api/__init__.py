"""The HTTP API: thin routes over the decision service, errors as RFC 9457 problems.

    app = create_app(service, settings)    # service: anything with decide / decide_batch

See docs/api.md for the routes, the problem format and examples.
"""

from fundwall.api.app import create_app
from fundwall.api.bodies import ApiLimits
from fundwall.api.models import DecisionOut, ReasonOut
from fundwall.api.problems import PROBLEM_BASE, InvalidInputProblem, Problem
from fundwall.api.service import DecisionServiceProtocol, LoginObserver

__all__ = [
    "PROBLEM_BASE",
    "ApiLimits",
    "DecisionOut",
    "DecisionServiceProtocol",
    "InvalidInputProblem",
    "LoginObserver",
    "Problem",
    "ReasonOut",
    "create_app",
]
