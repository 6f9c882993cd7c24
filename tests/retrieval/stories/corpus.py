"""A small story with known dates and outlets: the Riverside dam, reported by three outlets,
and two unrelated articles."""

from __future__ import annotations

from tests.helpers import article

CRACKS_WIRE = article(
    "Cracks found in Riverside dam spillway",
    [
        "Engineers found deep cracks in the spillway of the Riverside dam during a routine "
        "inspection on Friday, the water authority said.",
        "The authority lowered the reservoir by two metres as a precaution.",
    ],
    outlet="City Wire",
    date="2024-03-01",
)
CRACKS_TIMES = article(
    "Riverside dam inspection finds spillway cracks",
    [
        "Deep cracks were found in the Riverside dam's spillway by engineers during a routine "
        "inspection on Friday, according to the water authority.",
        "Residents downstream were told there was no immediate danger.",
    ],
    outlet="Harbour Times",
    date="2024-03-02",
)
DRAIN = article(
    "Council votes to drain Riverside reservoir",
    [
        "The council voted on Tuesday to drain the Riverside reservoir so that the cracked dam "
        "spillway can be repaired.",
        "Draining the reservoir will take about ten days.",
    ],
    outlet="City Wire",
    date="2024-03-05",
)
REPAIRS = article(
    "Repairs begin on Riverside dam",
    [
        "Work crews began repairing the Riverside dam spillway on Monday, pouring new concrete "
        "into the cracks.",
        "“We will not refill the reservoir until every crack is sealed,” Mayor Anna Lind said "
        "at the dam.",
    ],
    outlet="Harbour Times",
    date="2024-03-12",
)
FINE = article(
    "Dam operator to be fined over Riverside spillway",
    [
        "The company that runs the Riverside dam will be fined 2 million euros for missing two "
        "spillway inspections in 2022, the regulator announced.",
    ],
    outlet="Valley Post",
    date="2024-03-15",
)
REOPENED = article(
    "Riverside reservoir refilled after dam repairs",
    [
        "The Riverside reservoir began refilling on Wednesday after the dam spillway repairs "
        "were finished ahead of schedule.",
    ],
    outlet="Valley Post",
    date="2024-03-20",
)
FOOTBALL = article(
    "Valley United win the cup final",
    [
        "Valley United beat Harbour Rovers 3-1 in the cup final on Saturday, with two goals from "
        "their captain in the second half.",
    ],
    outlet="Valley Post",
    date="2024-03-09",
)
BAKERY = article(
    "Old town bakery celebrates 100 years",
    [
        "The old town bakery on Mill Street celebrated its hundredth year with free bread for "
        "every customer on Sunday.",
    ],
    outlet="City Wire",
    date="2024-03-10",
)
DAM_STORY = (CRACKS_WIRE, CRACKS_TIMES, DRAIN, REPAIRS, FINE, REOPENED)
ALL = (*DAM_STORY, FOOTBALL, BAKERY)
