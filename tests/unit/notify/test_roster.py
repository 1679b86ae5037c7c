"""The roster parser: every problem named by row and column, a bad file refused whole; routing by
route, community, hazard, tier and duty hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.notify.recipients import recipients
from pipeline.notify.roster import Channel, Role, RosterError, parse_roster
from schemas.hazard import Hazard, Tier

HEADER = "id,name,kind,community,role,channel,address,duty,timezone,hazards,min_tier,skills\n"
GOOD = (
    HEADER
    + "office,C1 office,team,c1,community_office,wecom,https://qyapi.example/send?key=k,always,,,,\n"
    + "wang,Wang Fang,person,c1,grid_worker,email,wang@example.org,08:00-20:00,UTC,,III,first_aid;boat\n"
    + "fire,Fire station 3,team,*,fire_brigade,dingtalk,https://oapi.example/robot/send,,,fire;gas_leak,,\n"
    + "vol,Red cross,team,c1,social_organisation,feishu,https://open.example/hook/x,,,flood,II,\n"
)
NOON = datetime(2026, 1, 1, 12, tzinfo=UTC)
MIDNIGHT = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)


def test_a_good_roster_parses_every_column() -> None:
    office, wang, fire, vol = parse_roster(GOOD)
    assert (office.kind, office.channel, office.on_duty_always) == ("team", Channel.WECOM, True)
    assert (wang.min_tier, wang.skills, wang.timezone) == (Tier.III, ("first_aid", "boat"), "UTC")
    assert wang.on_duty(NOON) and not wang.on_duty(MIDNIGHT)
    assert fire.community == "*" and fire.hazards == frozenset({Hazard.FIRE, Hazard.GAS_LEAK})
    assert vol.role is Role.SOCIAL_ORGANISATION


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("x,X,person,c1,chef,email,x@y.org,,,,,", "row 2, column role: 'chef' is not a role"),
        ("x,X,person,c1,police,sms,x@y.org,,,,,", "row 2, column channel: 'sms' is not a channel"),
        ("x,X,person,c1,police,email,not-an-address,,,,,", "row 2, column address: 'not-an-address'"),
        ("x,X,person,c1,police,webhook,ftp://h/x,,,,,", "row 2, column address: a webhook address"),
        ("x,X,person,c1,police,email,x@y.org,25:00-08:00,,,,", "row 2, column duty: '25:00-08:00'"),
        ("x,X,person,c1,police,email,x@y.org,,Mars/Base,,,", "row 2, column timezone"),
        ("x,X,person,c1,police,email,x@y.org,,,lava,,", "row 2, column hazards: 'lava' is not a hazard"),
        ("x,X,person,c1,police,email,x@y.org,,,,V,", "row 2, column min_tier: 'V' is not a tier"),
        ("x,X,robot,c1,police,email,x@y.org,,,,,", "row 2, column kind"),
        ("bad id,X,person,c1,police,email,x@y.org,,,,,", "row 2, column id"),
        ("x,X,person,c1,police,email,x@y.org,,,,,,extra", "row 2: more values than columns"),
    ],
)
def test_each_problem_names_its_row_and_column(row: str, expected: str) -> None:
    with pytest.raises(RosterError) as raised:
        parse_roster(HEADER + row + "\n")
    assert expected in str(raised.value)


def test_every_bad_row_is_reported_and_nothing_is_returned() -> None:
    again = "wang,Again,person,c1,police,email,w@x.org,,,,,\n"
    text = GOOD + again + "y,Y,person,c1,cook,email,y@x.org,,,,,\n"
    with pytest.raises(RosterError) as raised:
        parse_roster(text)
    assert str(raised.value).splitlines() == [
        "row 6, column id: 'wang' is also on row 3",
        "row 7, column role: 'cook' is not a role (one of " + ", ".join(r.value for r in Role) + ")",
    ]


def test_missing_and_unknown_columns_are_named() -> None:
    with pytest.raises(RosterError, match="row 1: missing column address; unknown column phone"):
        parse_roster("id,name,community,role,channel,phone\nx,X,c1,police,email,1\n")
    with pytest.raises(RosterError, match="no rows"):
        parse_roster(HEADER)


def test_routing_picks_by_route_community_hazard_tier_and_duty() -> None:
    roster = parse_roster(GOOD)

    def ids(route: str, community: str, hazard: Hazard, tier: Tier, at: datetime = NOON) -> list[str]:
        return [e.id for e in recipients(roster, route, community, (), hazard, tier, at)]

    assert ids("responders.community_office", "c1", Hazard.FLOOD, Tier.IV) == ["office"]
    assert ids("responders.community_office", "c2", Hazard.FLOOD, Tier.IV) == []
    assert ids("responders.grid_workers", "c1", Hazard.POWER_OUTAGE, Tier.III) == ["wang"]
    assert ids("responders.grid_workers", "c1", Hazard.POWER_OUTAGE, Tier.IV) == []  # below min_tier
    assert ids("responders.grid_workers", "c1", Hazard.POWER_OUTAGE, Tier.I, MIDNIGHT) == []  # off duty
    assert ids("responders.fire_brigade", "c9", Hazard.FIRE, Tier.III) == ["fire"]  # every community
    assert ids("responders.fire_brigade", "c9", Hazard.FLOOD, Tier.III) == []  # not its hazard
    assert ids("responders.volunteer_teams", "c1", Hazard.FLOOD, Tier.II) == ["vol"]


def test_a_district_notice_reaches_the_communities_it_covers() -> None:
    roster = parse_roster(GOOD)
    found = recipients(roster, "responders.community_office", "d1", ("c1", "c2"), Hazard.FIRE, Tier.II, NOON)
    assert [e.id for e in found] == ["office"]
