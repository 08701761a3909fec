"""truyvet venues load and truyvet venues import through the real broker, read back by the
registry follower."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from tests.integration.helpers import read_all
from truyvet import topics
from truyvet.cli import main
from truyvet.kafka.admin import ensure_topics
from truyvet.kafka.registry import VenueRegistry
from truyvet.settings import Settings


def test_load_csv_into_the_registry(settings: Settings, tmp_path: Path) -> None:
    ensure_topics(settings)
    path = tmp_path / "venues.csv"
    path.write_text(
        "venue_id,name,district,ward,category,opening_hours,scanning_points,staff_count\n"
        "V1,Cà phê A,Thành phố Huế,Phường Phú Hội,cafe,mon-sun 06:30-22:30,1,2\n"
        "V2,Quán B,Thành phố Huế,Phường Phú Hội,bar,fri-sat 18:00-02:00,1,1\n"
        "V3,Bad,Thành phố Huế,Phường Phú Hội,spaceport,mon 08:00-09:00,1,1\n"
        "V1,Cà phê A (mới),Thành phố Huế,Phường Phú Hội,cafe,mon-sun 06:00-23:00,2,3\n",
        encoding="utf-8")
    result = CliRunner().invoke(main, ["venues", "load", "--json", str(path)], env=settings.to_env())
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["delivered"] == 3 and summary["rejected"] == {"bad_enum": 1}
    assert summary["rejected_rows"][0]["row"] == 3

    registry = VenueRegistry(settings).start()
    try:
        assert sorted(registry.venues) == ["V1", "V2"]
        assert registry.venues["V1"].name == "Cà phê A (mới)"  # the later record replaces
        assert registry.category_of("V2") == "bar"
    finally:
        registry.stop()
    dead = read_all(settings, topics.deadletter(settings))
    assert len(dead) == 1 and b"spaceport" in dead[0].value


def test_import_the_provinces_list_into_the_registry(settings: Settings, tmp_path: Path) -> None:
    """A minimal list: what it lacks is assumed, said in the summary and in the records."""
    ensure_topics(settings)
    path = tmp_path / "danh-sach-co-so.csv"
    path.write_text(
        "\ufeffname,address,ward,district,category,scanning_points\n"
        "Cà phê Tam Giang,12 Lê Lợi,Phường Phú Hội,Thành phố Huế,Quán cà phê,\n"
        "Nhà hàng Sông Hương,3 Hùng Vương,Phường Phú Nhuận,Thành phố Huế,nha hang,3\n"
        "Karaoke X,,Phường Phú Hội,Thành phố Huế,karaoke,\n"
        "ca phe tam giang,12 le loi,phuong phu hoi,thanh pho hue,cafe,2\n",
        encoding="utf-8")
    result = CliRunner().invoke(main, ["venues", "import", "--json", str(path)],
                                env=settings.to_env())
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["delivered"] == 3 and summary["rejected"] == {"bad_enum": 1}
    assert summary["rejected_rows"][0]["row"] == 3
    assert summary["assumed"] == {"opening_hours": 3, "scanning_points": 1, "staff_count": 3}
    assert summary["repeated_rows"] == [{"row": 4, "repeats": 1}]  # the same cafe, retyped
    registry = VenueRegistry(settings).start()
    try:
        cafe, restaurant = sorted(registry.venues.values(), key=lambda v: v.category)
        assert (cafe.name, cafe.scanning_points) == ("ca phe tam giang", 2)  # the later row
        assert cafe.assumed == ("opening_hours", "staff_count")
        assert restaurant.category == "restaurant" and restaurant.scanning_points == 3
        assert restaurant.opening_hours["sun"] == ((9 * 60, 22 * 60),)  # assumed: 09:00-22:00
    finally:
        registry.stop()
    result = CliRunner().invoke(main, ["venues", "import", str(path)], env=settings.to_env())
    assert result.exit_code == 0 and "venues lacking data" in result.output, result.output
