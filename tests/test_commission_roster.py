"""The run's answer at a commission stage names the commission's members (who sits where), so
the workbench can show who has voted and who not yet: for the platform's staff (the answer of a
vote too); the applicant reads the signed votes, not the roster. None at other stages."""

from __future__ import annotations

from tests.test_commission import api, app_db, at_commission, bearer, db, members, pki, vote

__all__ = ["api", "app_db", "db", "members", "pki"]  # the fixtures, on a database of this module's own


def test_the_run_names_the_commission_to_staff(api, db, pki, members) -> None:
    number = at_commission(api, db, pki)
    officer = bearer(db, pki.person("officer").person.iin)
    run = api.get(f"/api/applications/{number}/run", headers=officer).json()
    assert (run["commission"]["name"], run["commission"]["stage"]) == ("recognition", "commission")
    seats = [(m["iin"], m["seat"]) for m in run["commission"]["members"]]
    assert seats == [(members[0][0], "chair"), (members[1][0], "deputy_chair"),
                     *sorted((iin, "member") for iin, _ in members[2:])]
    assert all("name" in m for m in run["commission"]["members"])  # None for one never signed in
    mine = api.get(f"/api/applications/{number}/run", headers=bearer(db, pki.person("applicant").person.iin))
    assert mine.status_code == 200 and "commission" not in mine.json()

    r = vote(api, db, members[2], number, "approve")
    assert r.status_code == 200, r.text
    answer = r.json()
    assert len(answer["commission"]["members"]) == 5
    assert [(v["member_iin"], v["vote"]) for v in answer["votes"]] == [(members[2][0], "approve")]
    # Past the commission (everyone votes for: decided at once), no roster.
    for who in (members[0], members[1], members[3], members[4]):
        r = vote(api, db, who, number, "approve")
        assert r.status_code == 200, r.text
    assert r.json()["stage"] == "send_decision" and "commission" not in r.json()
