"""The contacts file the import benches read (bench/import.py, bench/history.py): one generator,
so both measure the same mix of numbers."""

import random
from pathlib import Path

HEADER = "surname;name;group;homePhone;homeMobile;workPhone;workMobile\n"


def generate(path: Path, n: int, seed: int = 1) -> dict:
    """~1.85 numbers per line: a home mobile on each line, a work mobile on half, a landline on
    35%; 3% of lines hold a bad number, 1% repeat an earlier one, 5% are in national format."""
    rng = random.Random(seed)
    numbers = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(n):
            r = rng.random()
            if r < 0.03:
                mobile = rng.choice(["hello", "+336123", "+33140000000", "12"])
            elif r < 0.04 and i:
                mobile = f"+336{rng.randrange(i):08d}"
            elif r < 0.09:
                m = f"06{i:08d}"
                mobile = " ".join(m[k : k + 2] for k in range(0, 10, 2))
            else:
                mobile = f"+336{i:08d}"
            work = f"+3375{i:07d}" if rng.random() < 0.5 else ""
            home = f"+3314{i:07d}" if rng.random() < 0.35 else ""
            numbers += 1 + bool(work) + bool(home)
            out.write(f"Nom{i};Prénom{i % 97};Société {i % 13};{home};{mobile};;{work}\n")
    return {"numbers_per_line": numbers / n, "bytes": path.stat().st_size}
