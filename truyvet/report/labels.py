"""The words of the report and the dashboard, in Vietnamese (default) and English.

Vietnamese terms follow directive 11731/UBND-CN (Thừa Thiên Huế, 06/12/2021): *quét mã QR*,
*Thẻ kiểm soát dịch bệnh*, *ứng dụng PC-COVID*, *Tuần cao điểm*, *Sở Thông tin và Truyền
thông*, *tạm dừng hoạt động*, *xử phạt*. The dashboard receives these same tables as JSON, so
each term is written once.
"""

from __future__ import annotations

from typing import Any

LANGS = ("vi", "en")

CATEGORIES: dict[str, dict[str, str]] = {
    "vi": {"cafe": "Quán cà phê", "restaurant": "Nhà hàng, quán ăn",
           "bar": "Quán ăn uống có bán đồ uống có cồn", "market": "Chợ",
           "supermarket": "Siêu thị", "office": "Cơ quan, văn phòng", "school": "Trường học",
           "hospital": "Cơ sở y tế", "hotel": "Cơ sở lưu trú", "gym": "Phòng tập",
           "worship": "Cơ sở tôn giáo", "other": "Khác"},
    "en": {"cafe": "Cafes", "restaurant": "Restaurants, eateries",
           "bar": "Places serving alcohol", "market": "Markets", "supermarket": "Supermarkets",
           "office": "Offices", "school": "Schools", "hospital": "Health facilities",
           "hotel": "Lodging", "gym": "Gyms", "worship": "Places of worship", "other": "Other"},
}

OUTCOMES: dict[str, dict[str, str]] = {
    "vi": {"compliant": "Đạt yêu cầu", "reminded": "Nhắc nhở",
           "suspended": "Tạm dừng hoạt động", "fined": "Xử phạt"},
    "en": {"compliant": "Compliant", "reminded": "Reminded", "suspended": "Suspended",
           "fined": "Fined"},
}
OUTCOME_ORDER = ("compliant", "reminded", "suspended", "fined")

REASONS: dict[str, dict[str, str]] = {
    "vi": {"gaps": "F0/F1 khai lịch trình đến nhưng không có dữ liệu quét",
           "low_coverage": "Tỷ lệ người vào ra được quét QR thấp",
           "silent": "Không quét, không có tín hiệu máy quét trong giờ mở cửa",
           "venue_qr": "Còn dùng mã QR dán tại địa điểm (phải gỡ bỏ)",
           "no_exit_scans": "Không quét khi ra",
           "not_scanning": "Chưa triển khai quét mã QR"},
    "en": {"gaps": "F0/F1 declared visits with no scan on record",
           "low_coverage": "Low share of visitors scanned",
           "silent": "No scans and no scanner heartbeat while open",
           "venue_qr": "Still uses a self-scan QR poster (must be removed)",
           "no_exit_scans": "No exit scans",
           "not_scanning": "Not scanning at all"},
}

ALERT_KINDS: dict[str, dict[str, str]] = {
    "vi": {"low_coverage": "Tỷ lệ quét thấp", "silent": "Máy quét im lặng khi mở cửa",
           "venue_qr": "Dùng mã QR dán", "gaps": "Tích lũy khai báo không có dữ liệu quét"},
    "en": {"low_coverage": "Low coverage", "silent": "Silent while open",
           "venue_qr": "Self-scan QR poster", "gaps": "Accumulated gaps"},
}

# Alert details, worded from the alert's facts ({name} = a fact; times shown in Vietnam time).
ALERT_DETAILS: dict[str, dict[str, str]] = {
    "vi": {"low_coverage": "{scanned}/{counted} người được quét QR ({pct}%) từ {from} đến {to}",
           "silent": "Đang mở cửa nhưng không có lượt quét, không có tín hiệu máy quét trong "
                     "{minutes} phút",
           "venue_qr": "{scans} lượt tự quét mã QR dán tại địa điểm trong giờ từ {from}",
           "gaps": "{gaps} khai báo chưa có dữ liệu quét trong {days} ngày"},
    "en": {"low_coverage": "{scanned} of {counted} people scanned ({pct}%) from {from} to {to}",
           "silent": "Open, but no scan and no scanner heartbeat for {minutes} minutes",
           "venue_qr": "{scans} self-scans of the banned venue QR poster in the hour from {from}",
           "gaps": "{gaps} open gaps (declared visits without a scan) in {days} days"},
}

# The report's figure columns: key in the API's figures, then the heading per language.
COLUMNS: dict[str, dict[str, str]] = {
    "vi": {"venues": "Cơ sở đăng ký", "venues_scanning": "Cơ sở có quét QR",
           "venues_inspected": "Cơ sở đã kiểm tra", "inspections": "Lượt kiểm tra",
           "compliant": "Đạt yêu cầu", "reminded": "Nhắc nhở",
           "suspended": "Tạm dừng hoạt động", "fined": "Xử phạt",
           "people_counted": "Người vào ra (đếm)", "people_scanned": "Người được quét QR",
           "coverage": "Tỷ lệ người vào ra được quét QR (%)",
           "gaps_flagged": "Khai báo không có dữ liệu quét",
           "gaps_resolved": "Đã có dữ liệu bổ sung", "alerts": "Cảnh báo"},
    "en": {"venues": "Venues registered", "venues_scanning": "Venues scanning",
           "venues_inspected": "Venues inspected", "inspections": "Inspections",
           "compliant": "Compliant", "reminded": "Reminded", "suspended": "Suspended",
           "fined": "Fined", "people_counted": "People counted",
           "people_scanned": "People scanned", "coverage": "Coverage (%)",
           "gaps_flagged": "Gaps flagged", "gaps_resolved": "Gaps resolved", "alerts": "Alerts"},
}

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "authority": "ỦY BAN NHÂN DÂN TỈNH THỪA THIÊN HUẾ",
        "authority_district": "ỦY BAN NHÂN DÂN {district}",
        "motto_1": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto_2": "Độc lập - Tự do - Hạnh phúc",
        "title": "BÁO CÁO",
        "subtitle": "Kết quả kiểm tra việc thực hiện quét mã QR trên Thẻ kiểm soát dịch bệnh "
                    "và ứng dụng PC-COVID",
        "recipient": "Kính gửi: Sở Thông tin và Truyền thông tỉnh Thừa Thiên Huế",
        "basis": "Thực hiện Công văn số 11731/UBND-CN ngày 06/12/2021 của UBND tỉnh về việc "
                 "quyết liệt triển khai giải pháp QR bằng Thẻ kiểm soát dịch bệnh.",
        "period": "Thời gian: từ ngày {from} đến ngày {to}",
        "area": "Địa bàn: {area}", "province": "Toàn tỉnh",
        "s_total": "1. Tổng hợp theo địa bàn",
        "s_hospitality": "2. Quán cà phê, nhà hàng, quán ăn uống có bán đồ uống có cồn "
                         "(Tuần cao điểm)",
        "s_categories": "3. Chi tiết theo loại hình cơ sở",
        "s_worst": "4. Các cơ sở cần chấn chỉnh",
        "district": "Địa bàn", "category": "Loại hình", "total": "Tổng cộng",
        "venue": "Cơ sở", "venue_id": "Mã cơ sở", "ward": "Phường/xã", "risk": "Mức rủi ro",
        "reasons": "Lý do", "none": "Không có", "generated": "Lập lúc {at} bởi hệ thống truyvet.",
        "definitions": "Tỷ lệ người vào ra được quét QR = số người được quét / số người vào ra "
                       "đếm được (máy đếm tại cửa hoặc đoàn kiểm tra). \"Khai báo không có dữ "
                       "liệu quét\": F0, F1 khai lịch trình đến cơ sở nhưng hệ thống không có "
                       "lượt quét tương ứng. Kết quả kiểm tra tính theo lượt.",
        "section": "Phần", "scope_total": "Toàn tỉnh", "scope_district": "Địa bàn",
        "scope_category": "Loại hình", "scope_hospitality": "Tuần cao điểm",
        "scope_venue": "Cơ sở cần chấn chỉnh",
    },
    "en": {
        "authority": "PEOPLE'S COMMITTEE OF THỪA THIÊN HUẾ PROVINCE",
        "authority_district": "PEOPLE'S COMMITTEE OF {district}",
        "motto_1": "SOCIALIST REPUBLIC OF VIETNAM",
        "motto_2": "Independence - Freedom - Happiness",
        "title": "REPORT",
        "subtitle": "Inspection of QR scanning with disease-control cards and the PC-COVID app",
        "recipient": "To: Department of Information and Communications, Thừa Thiên Huế",
        "basis": "Pursuant to the Provincial People's Committee's directive 11731/UBND-CN of "
                 "06/12/2021 on QR scanning with disease-control cards.",
        "period": "Period: {from} to {to}",
        "area": "Area: {area}", "province": "Whole province",
        "s_total": "1. Summary by district",
        "s_hospitality": "2. Cafes, restaurants and places serving alcohol (inspection week)",
        "s_categories": "3. By category of venue",
        "s_worst": "4. Venues to correct",
        "district": "District", "category": "Category", "total": "Total",
        "venue": "Venue", "venue_id": "Venue ID", "ward": "Ward", "risk": "Risk",
        "reasons": "Reasons", "none": "None", "generated": "Generated {at} by truyvet.",
        "definitions": "Coverage = people scanned / people counted (door counters or inspectors). "
                       "Gaps: F0/F1 declared a visit and no scan is on record. Outcomes count "
                       "inspections.",
        "section": "Section", "scope_total": "Province", "scope_district": "District",
        "scope_category": "Category", "scope_hospitality": "Inspection week",
        "scope_venue": "Venue to correct",
    },
}


# The dashboard's own words.
UI: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Phòng điều hành truy vết — giám sát quét mã QR",
        "subtitle": "Thẻ kiểm soát dịch bệnh và ứng dụng PC-COVID · tỉnh Thừa Thiên Huế",
        "updated": "Cập nhật", "token": "Mã truy cập API", "connect": "Kết nối",
        "ops": "Vận hành hệ thống", "scans_per_s": "Lượt quét/giây",
        "scans_total": "Tổng lượt quét", "lag": "Bản ghi chưa xử lý", "drain": "Thời gian xử lý hết",
        "deadletters": "Bản ghi lỗi (hàng đợi lỗi)", "itineraries": "Lịch trình F0/F1 đã khai",
        "gaps_total": "Khoảng trống (không có dữ liệu quét)", "alerts_total": "Cảnh báo tuân thủ",
        "by_district": "Tuân thủ theo địa bàn (7 ngày qua)", "live_alerts": "Cảnh báo mới nhất",
        "live_gaps": "Khai báo không có dữ liệu quét", "queue": "Danh sách cơ sở cần kiểm tra",
        "campaign": "Đợt kiểm tra", "no_campaign": "Chưa có đợt kiểm tra",
        "venue_detail": "Chi tiết cơ sở", "pick_venue": "Chọn một cơ sở để xem chi tiết",
        "inspected": "Đã kiểm tra", "open": "Chưa giải quyết", "resolved": "Đã có dữ liệu",
        "declared": "Thời gian khai báo", "flagged": "Phát hiện lúc", "kind": "Loại",
        "detail": "Chi tiết", "raised": "Lúc", "per_group": "Theo nhóm xử lý",
        "scans_in": "Lượt quét vào", "scans_out": "Lượt quét ra", "exit_share":
        "Tỷ lệ có quét ra (%)", "method_mix": "Thẻ / PC-COVID / mã QR dán",
        "silent_share": "Giờ mở cửa không quét (%)", "inspections": "Lần kiểm tra",
        "outcome": "Kết quả", "inspector": "Cán bộ kiểm tra", "nothing": "Chưa có",
        "error": "Không kết nối được API", "seconds": "giây",
    },
    "en": {
        "title": "Tracing operations room — QR scanning oversight",
        "subtitle": "Disease-control cards and the PC-COVID app · Thừa Thiên Huế province",
        "updated": "Updated", "token": "API token", "connect": "Connect",
        "ops": "Pipeline", "scans_per_s": "Scans/s", "scans_total": "Scans in total",
        "lag": "Records behind", "drain": "Time to catch up",
        "deadletters": "Dead letters", "itineraries": "F0/F1 itineraries declared",
        "gaps_total": "Gaps (declared, not scanned)", "alerts_total": "Compliance alerts",
        "by_district": "Compliance by district (last 7 days)", "live_alerts": "Latest alerts",
        "live_gaps": "Declared visits with no scan", "queue": "Inspection queue",
        "campaign": "Campaign", "no_campaign": "No campaign yet",
        "venue_detail": "Venue detail", "pick_venue": "Pick a venue to see its detail",
        "inspected": "Inspected", "open": "Open", "resolved": "Resolved",
        "declared": "Declared", "flagged": "Flagged at", "kind": "Kind", "detail": "Detail",
        "raised": "At", "per_group": "By consumer group", "scans_in": "Scans in",
        "scans_out": "Scans out", "exit_share": "Exit scans (%)",
        "method_mix": "Card / PC-COVID / poster QR", "silent_share": "Silent open hours (%)",
        "inspections": "Inspections", "outcome": "Outcome", "inspector": "Inspector",
        "nothing": "None yet", "error": "The API cannot be reached", "seconds": "s",
    },
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}")
    return lang


def bundle(lang: str) -> dict[str, Any]:
    """Every table of one language, for the dashboard."""
    check_lang(lang)
    return {"categories": CATEGORIES[lang], "outcomes": OUTCOMES[lang],
            "reasons": REASONS[lang], "alert_kinds": ALERT_KINDS[lang],
            "alert_details": ALERT_DETAILS[lang],
            "columns": COLUMNS[lang], "text": TEXT[lang], "ui": UI[lang]}
