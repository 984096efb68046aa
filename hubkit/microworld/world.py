"""The fictional world of Veldra: fixed names, towns, people and a lexicon.

Every domain draws its vocabulary from here, so the stand-ins' pretraining
corpus and the evaluation items speak about the same world with a small
vocabulary a tiny model can learn. The world is fixed (it does not depend on
any seed): facts must agree between the corpus and every split.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from hubkit.microworld._common import rng_for

WORLD_NAME = "Veldra"

PEOPLE = (
    "Ana", "Bo", "Cal", "Dee", "Eli", "Fay", "Gus", "Hal", "Ida", "Jon",
    "Kai", "Lea", "Max", "Nia", "Oto", "Pia", "Rex", "Sue", "Tom", "Uma",
)
PRONOUN = {name: ("she" if name in {"Ana", "Dee", "Fay", "Ida", "Lea", "Nia", "Pia", "Sue", "Uma"} else "he") for name in PEOPLE}
OBJECTS = ("apples", "pears", "coins", "stones", "shells", "beads", "eggs", "books")
COLOURS = ("red", "blue", "green", "yellow", "white", "black", "brown", "pink")
REGIONS = ("north", "south", "east", "west", "centre")
CROPS = ("wheat", "barley", "rice", "beans", "corn", "plums", "grapes", "oats")
ANIMALS = ("heron", "fox", "otter", "hare", "owl", "wolf", "crane", "lynx")
JOBS = ("baker", "smith", "farmer", "weaver", "miner", "potter", "sailor", "healer", "scribe", "hunter")
PLACES = ("market", "mill", "harbour", "library", "forge", "garden")
ITEMS = ("hat", "scarf", "cup", "basket", "lamp", "bowl")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_SYLLABLES = ("ka", "lo", "mi", "ru", "ve", "do", "sa", "ni", "to", "be", "zu", "ra", "fe", "go", "li", "pa")
_N_TOWNS = 60
_N_RIVERS = 8


def _coin(rng_key: str, count: int, used: set[str]) -> list[str]:
    rng = rng_for("names", rng_key)
    names: list[str] = []
    while len(names) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3))))
        word = word.capitalize()
        if word not in used and word not in PEOPLE:
            used.add(word)
            names.append(word)
    return names


@dataclass(frozen=True)
class Town:
    name: str
    region: str
    flag: str
    crop: str
    river: str
    animal: str
    founder: str


@dataclass(frozen=True)
class Resident:
    name: str
    job: str
    town: str


@dataclass(frozen=True)
class World:
    towns: tuple[Town, ...]
    rivers: tuple[str, ...]
    residents: tuple[Resident, ...]


@cache
def world() -> World:
    """The one world (cached: it never changes)."""
    used: set[str] = set()
    town_names = _coin("towns", _N_TOWNS, used)
    rivers = tuple(_coin("rivers", _N_RIVERS, used))
    rng = rng_for("world", WORLD_NAME)
    towns = tuple(
        Town(
            name=name,
            region=rng.choice(REGIONS),
            flag=rng.choice(COLOURS),
            crop=rng.choice(CROPS),
            river=rng.choice(rivers),
            animal=rng.choice(ANIMALS),
            founder=rng.choice(PEOPLE),
        )
        for name in town_names
    )
    residents = tuple(
        Resident(name=f"{first} of {town.name}", job=rng.choice(JOBS), town=town.name)
        for town in towns[:30]
        for first in (rng.choice(PEOPLE),)
    )
    return World(towns=towns, rivers=rivers, residents=residents)


def town_text(town: Town) -> str:
    return (
        f"{town.name} is a town in the {town.region} of {WORLD_NAME}. "
        f"The flag of {town.name} is {town.flag}. "
        f"The farmers of {town.name} grow {town.crop}. "
        f"The river {town.river} flows through {town.name}. "
        f"{town.name} was founded by {town.founder}. "
        f"The {town.animal} is the animal of {town.name}."
    )


def resident_text(resident: Resident) -> str:
    return f"{resident.name} is a {resident.job}. {resident.name} lives in {resident.town}."


def world_texts() -> list[str]:
    """Encyclopedia-style prose stating every fact of the world once."""
    w = world()
    return [town_text(t) for t in w.towns] + [resident_text(r) for r in w.residents]
