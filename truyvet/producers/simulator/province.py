"""Static facts of the simulated province, Thừa Thiên Huế (2021): its nine district-level
units with a few wards each and rough population weights, and the kinds of venues the
directive targets with their hours, typical stays and sizes."""

from __future__ import annotations

from dataclasses import dataclass



@dataclass(frozen=True)
class District:
    code: str
    name: str
    weight: float  # share of residents (and of venues)
    wards: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District("HUE", "Thành phố Huế", 0.40, (
        "Phường Phú Hội", "Phường Phú Nhuận", "Phường Vĩnh Ninh", "Phường Thuận Thành",
        "Phường Đông Ba", "Phường Tây Lộc", "Phường Xuân Phú", "Phường An Cựu",
        "Phường Phước Vĩnh", "Phường Trường An", "Phường Thuận An", "Phường Hương Long")),
    District("HTY", "Thị xã Hương Thủy", 0.09, (
        "Phường Phú Bài", "Phường Thủy Dương", "Phường Thủy Phương", "Phường Thủy Châu")),
    District("HTR", "Thị xã Hương Trà", 0.07, (
        "Phường Tứ Hạ", "Phường Hương Văn", "Phường Hương Xuân", "Xã Hương Toàn")),
    District("PDN", "Huyện Phong Điền", 0.08, (
        "Thị trấn Phong Điền", "Xã Phong Hiền", "Xã Phong An", "Xã Điền Hải")),
    District("QDN", "Huyện Quảng Điền", 0.07, (
        "Thị trấn Sịa", "Xã Quảng Phước", "Xã Quảng An", "Xã Quảng Thành")),
    District("PVG", "Huyện Phú Vang", 0.10, (
        "Thị trấn Phú Đa", "Xã Vinh Thanh", "Xã Phú Diên", "Xã Phú Thuận")),
    District("PLC", "Huyện Phú Lộc", 0.12, (
        "Thị trấn Phú Lộc", "Thị trấn Lăng Cô", "Xã Lộc Điền", "Xã Vinh Hiền")),
    District("ALI", "Huyện A Lưới", 0.045, (
        "Thị trấn A Lưới", "Xã Hồng Hạ", "Xã Hương Phong")),
    District("NDG", "Huyện Nam Đông", 0.025, ("Thị trấn Khe Tre", "Xã Hương Phú", "Xã Thượng Long")),
)


@dataclass(frozen=True)
class Category:
    name: str  # as in schemas/venue.v1 "category"
    code: str
    share: float  # share of venues
    hours: tuple[str, ...]  # every day unless weekdays_only
    weekdays_only: bool
    stay_min: tuple[int, int]  # typical stay, minutes (uniform range)
    capacity: tuple[int, int]
    name_vi: str  # prefix of generated venue names


CATEGORIES: dict[str, Category] = {c.name: c for c in (
    Category("cafe", "CF", 0.24, ("06:30-22:30",), False, (20, 90), (20, 120), "Cà phê"),
    Category("restaurant", "RS", 0.18, ("10:00-14:00", "16:30-22:00"), False, (30, 90),
             (30, 200), "Nhà hàng"),
    Category("bar", "BR", 0.06, ("17:00-01:00",), False, (60, 180), (30, 150), "Quán nhậu"),
    Category("market", "MK", 0.05, ("05:00-18:00",), False, (15, 60), (200, 2000), "Chợ"),
    Category("supermarket", "SM", 0.04, ("08:00-22:00",), False, (15, 50), (100, 600),
             "Siêu thị"),
    Category("office", "OF", 0.17, ("07:00-17:30",), True, (420, 540), (20, 400), "Cơ quan"),
    Category("school", "SC", 0.08, ("06:45-17:00",), True, (240, 480), (200, 1500),
             "Trường"),
    Category("hospital", "HP", 0.02, ("00:00-24:00",), False, (40, 180), (100, 1500),
             "Bệnh viện"),
    Category("hotel", "HT", 0.06, ("00:00-24:00",), False, (60, 720), (20, 300), "Khách sạn"),
    Category("gym", "GY", 0.05, ("05:30-21:30",), False, (45, 100), (20, 150), "Phòng tập"),
    Category("worship", "WS", 0.05, ("05:00-20:00",), False, (30, 90), (30, 500), "Chùa"),
)}

NAME_WORDS = (
    "Sông Hương", "Đông Ba", "Thiên Mụ", "Trường Tiền", "Ngự Bình", "Hoàng Thành", "Vỹ Dạ",
    "Kim Long", "Bạch Mã", "Tam Giang", "Lăng Cô", "Thuận An", "Hương Giang", "An Định",
    "Phú Xuân", "Cồn Hến", "Nam Giao", "Gia Hội", "Bến Ngự", "Thanh Toàn",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
