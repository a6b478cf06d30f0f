"""Affiliate aliases come and go while other threads walk Django's connections.

Django walks ``connections`` after every request (``close_old_connections``) and in
``connections.close_all()``; a thread serving a gym this process has not served yet registers its
alias meanwhile. bench/scale.py, provisioning thousands of gyms in threads, met "dictionary changed
size during iteration" there: aliases are now added and removed copy-on-write.
"""

from __future__ import annotations

import pytest
from django.db import connections as django_connections

from affiliates.routing import connections

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_gym_registered_during_a_walk_of_the_connections_leaves_the_walk_intact(gyms):
    connections.forget_all()
    alias = connections.alias_name(gyms.a)
    walk = iter(django_connections)  # what close_old_connections walks after a request
    first = next(walk)

    assert connections.alias_for(gyms.a) == alias  # another request reaches a gym not served yet

    rest = list(walk)  # in place, this raised RuntimeError: dictionary changed size during iteration
    assert alias not in [first, *rest]  # the walk under way goes on over what it started with
    assert alias in django_connections  # the next walk sees the gym
    assert {"default", alias} <= {c.alias for c in django_connections.all()}


def test_a_gym_forgotten_during_a_walk_of_the_connections_leaves_the_walk_intact(gyms):
    connections.forget_all()
    alias = connections.alias_for(gyms.a)
    other = connections.alias_for(gyms.b)
    walk = iter(django_connections)
    next(walk)

    connections.forget(gyms.a)  # suspended meanwhile, say

    assert alias in list(walk)  # the walk under way still sees it, whole
    assert alias not in django_connections
    assert other in django_connections
    connections.forget_all()
    assert not [a for a in django_connections if a.startswith("affiliate_")]


def test_a_process_keeps_a_bounded_number_of_aliases_whatever_the_gyms_it_served(gyms, settings):
    """Django walks every registered alias at each request's start and end: with one per gym ever
    served, every request grew slower with the fleet (bench/scale.py: 12 ms at 3,000 gyms)."""
    from affiliates.models import Affiliate
    from affiliates.routing.context import affiliate_context
    from gym.members.models import Member

    connections.forget_all()
    settings.AFFILIATE_ALIASES_PER_PROCESS = 2
    stand_ins = [Affiliate(pk=10_000 + n, schema_name=f"standin{n}", database_server=gyms.a.database_server,
                           database_name=f"fitbuddy_standin{n}", database_role=f"fitbuddy_standin{n}",
                           secret_ref=gyms.a.secret_ref)
                 for n in range(5)]  # fmt: skip
    with affiliate_context(gyms.a):
        assert Member.objects.filter(first_name="Ann").exists()  # a's connection, open in this thread
    for stand_in in stand_ins:
        connections.alias_for(stand_in)

    registered = [a for a in django_connections if a.startswith("affiliate_")]
    assert len(registered) == 2, registered
    assert registered == [connections.alias_name(s) for s in stand_ins[-2:]]  # the most recently used
    with affiliate_context(gyms.a):  # a gym served again is registered again, and answers
        assert Member.objects.filter(first_name="Ann").exists()
    assert connections.alias_name(gyms.a) in django_connections
    assert len([a for a in django_connections if a.startswith("affiliate_")]) == 2
    connections.forget_all()
