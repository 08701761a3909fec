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
           "silent_entrance": "Có vị trí quét mã QR không hoạt động trong giờ mở cửa",
           "venue_qr": "Còn dùng mã QR dán tại địa điểm (phải gỡ bỏ)",
           "no_exit_scans": "Không quét khi ra",
           "not_scanning": "Chưa triển khai quét mã QR"},
    "en": {"gaps": "F0/F1 declared visits with no scan on record",
           "low_coverage": "Low share of visitors scanned",
           "silent": "No scans and no scanner heartbeat while open",
           "silent_entrance": "An entrance not scanned while open (its scanner silent)",
           "venue_qr": "Still uses a self-scan QR poster (must be removed)",
           "no_exit_scans": "No exit scans",
           "not_scanning": "Not scanning at all"},
}

ALERT_KINDS: dict[str, dict[str, str]] = {
    "vi": {"low_coverage": "Tỷ lệ quét thấp", "silent": "Máy quét im lặng khi mở cửa",
           "silent_entrance": "Vị trí quét không hoạt động",
           "venue_qr": "Dùng mã QR dán", "gaps": "Tích lũy khai báo không có dữ liệu quét",
           "cluster": "Ổ dịch"},
    "en": {"low_coverage": "Low coverage", "silent": "Silent while open",
           "silent_entrance": "Entrance not scanned",
           "venue_qr": "Self-scan QR poster", "gaps": "Accumulated gaps",
           "cluster": "Cluster of cases"},
}

# Alert details, worded from the alert's facts ({name} = a fact; times shown in Vietnam time).
ALERT_DETAILS: dict[str, dict[str, str]] = {
    "vi": {"low_coverage": "{scanned}/{counted} người được quét QR ({pct}%) từ {from} đến {to}",
           "silent": "Đang mở cửa nhưng không có lượt quét, không có tín hiệu máy quét trong "
                     "{minutes} phút",
           "silent_entrance": "Máy quét {scanner} tại một vị trí quét mã QR im lặng {minutes} "
                              "phút trong giờ mở cửa; {heard}/{registered} vị trí quét đăng ký "
                              "có tín hiệu",
           "venue_qr": "{scans} lượt tự quét mã QR dán tại địa điểm trong giờ từ {from}",
           "gaps": "{gaps} khai báo chưa có dữ liệu quét trong {days} ngày",
           "cluster": "{cases} ca F0 khai báo đã đến cơ sở từ {from} đến {to}"},
    "en": {"low_coverage": "{scanned} of {counted} people scanned ({pct}%) from {from} to {to}",
           "silent": "Open, but no scan and no scanner heartbeat for {minutes} minutes",
           "silent_entrance": "Entrance scanner {scanner} silent for {minutes} minutes while "
                              "open; {heard} of {registered} registered scanning points heard",
           "venue_qr": "{scans} self-scans of the banned venue QR poster in the hour from {from}",
           "gaps": "{gaps} open gaps (declared visits without a scan) in {days} days",
           "cluster": "{cases} F0 cases declared this venue from {from} to {to}"},
}

# The report's figure columns: key in the API's figures, then the heading per language.
COLUMNS: dict[str, dict[str, str]] = {
    "vi": {"venues": "Cơ sở đăng ký", "venues_scanning": "Cơ sở có quét QR",
           "venues_inspected": "Cơ sở đã kiểm tra", "inspections": "Lượt kiểm tra",
           "compliant": "Đạt yêu cầu", "reminded": "Nhắc nhở",
           "suspended": "Tạm dừng hoạt động", "fined": "Xử phạt",
           "people_counted": "Người vào ra (đếm)", "people_scanned": "Người được quét QR",
           "coverage": "Tỷ lệ người vào ra được quét QR (%)",
           "venue_qr_share": "Lượt tự quét mã QR dán (%)",
           "exit_share": "Tỷ lệ có quét khi ra (%)",
           "silent_entrances": "Vị trí quét không hoạt động",
           "gaps_flagged": "Khai báo không có dữ liệu quét",
           "gaps_resolved": "Đã có dữ liệu bổ sung", "alerts": "Cảnh báo"},
    "en": {"venues": "Venues registered", "venues_scanning": "Venues scanning",
           "venues_inspected": "Venues inspected", "inspections": "Inspections",
           "compliant": "Compliant", "reminded": "Reminded", "suspended": "Suspended",
           "fined": "Fined", "people_counted": "People counted",
           "people_scanned": "People scanned", "coverage": "Coverage (%)",
           "venue_qr_share": "Poster self-scans (%)", "exit_share": "Scanned on exit (%)",
           "silent_entrances": "Entrances not scanned",
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
        "s_followups": "5. Theo dõi người tiếp xúc gần (F1) của các ca đang truy vết (toàn tỉnh)",
        "followup_status": "Tình trạng", "followup_people": "Số người",
        "followup_of": "{contacts} F1 của {cases} ca F0/F1 đang truy vết",
        "s_registry": "6. Cơ sở chưa đủ thông tin đăng ký (giả định theo loại hình, cần bổ sung)",
        "registry_of": "{incomplete}/{venues} cơ sở nhập từ danh sách của tỉnh chưa có đủ thông "
                       "tin; hệ thống tạm dùng giá trị mặc định",
        "registry_more": "… và {n} cơ sở khác",
        "assumed": "Thông tin còn thiếu",
        "assumed_opening_hours": "Giờ mở cửa", "assumed_scanning_points": "Số vị trí quét mã QR",
        "assumed_staff_count": "Số nhân viên quét mã QR",
        "district": "Địa bàn", "category": "Loại hình", "total": "Tổng cộng",
        "venue": "Cơ sở", "venue_id": "Mã cơ sở", "ward": "Phường/xã", "risk": "Mức rủi ro",
        "reasons": "Lý do", "none": "Không có", "generated": "Lập lúc {at} bởi hệ thống truyvet.",
        "definitions": "Tỷ lệ người vào ra được quét QR = số người được quét / số người vào ra "
                       "đếm được (máy đếm tại cửa hoặc đoàn kiểm tra). \"Khai báo không có dữ "
                       "liệu quét\": F0, F1 khai lịch trình đến cơ sở nhưng hệ thống không có "
                       "lượt quét tương ứng. Lượt tự quét mã QR dán = lượt quét bằng mã QR "
                       "dán tại địa điểm (đã phải gỡ bỏ) / tổng lượt quét. Tỷ lệ có quét khi "
                       "ra = số thẻ được quét khi vào và cả khi ra trong ngày / số thẻ được "
                       "quét khi vào (tính theo ngày trọn). Vị trí quét không hoạt động: số vị "
                       "trí quét mã QR đã đăng ký không có tín hiệu máy quét trong một giờ mở "
                       "cửa khi các vị trí khác của cơ sở vẫn có (nhiều nhất trong một giờ; "
                       "cộng theo cơ sở). Kết quả kiểm tra tính theo lượt.",
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
        "s_followups": "5. Follow-up of the close contacts (F1) of the cases being traced "
                       "(whole province)",
        "followup_status": "Status", "followup_people": "People",
        "followup_of": "{contacts} F1 of {cases} F0/F1 cases being traced",
        "s_registry": "6. Venues whose registration is incomplete (assumed by category, to "
                      "be completed)",
        "registry_of": "{incomplete} of {venues} venues imported from the province's list lack "
                       "data; defaults stand in for it",
        "registry_more": "… and {n} more venues",
        "assumed": "Data lacking",
        "assumed_opening_hours": "Opening hours", "assumed_scanning_points": "QR scanning points",
        "assumed_staff_count": "Staff scanning QR",
        "district": "District", "category": "Category", "total": "Total",
        "venue": "Venue", "venue_id": "Venue ID", "ward": "Ward", "risk": "Risk",
        "reasons": "Reasons", "none": "None", "generated": "Generated {at} by truyvet.",
        "definitions": "Coverage = people scanned / people counted (door counters or inspectors). "
                       "Gaps: F0/F1 declared a visit and no scan is on record. Poster "
                       "self-scans = scans of the banned venue QR poster / all scans. Scanned "
                       "on exit = cards scanned in and also out that day / cards scanned in "
                       "(whole days). Entrances not scanned: registered scanning points with no "
                       "scanner heard in an open hour while the venue's others were (the most "
                       "in any hour; summed over venues). Outcomes count inspections.",
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
        "clusters": "Ổ dịch: từ 2 ca F0 cùng đến một cơ sở", "f0_cases": "{n} ca F0",
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
        "clusters": "Clusters: two or more F0 cases at one venue", "f0_cases": "{n} F0 cases",
    },
}


# The tracer workbench's own words (``/workbench/``): the directive's F0, F1, lịch trình,
# khai báo, cơ sở, quét mã QR.
WORKBENCH: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Bàn làm việc truy vết — đối chiếu lịch trình với dữ liệu quét mã QR",
        "subtitle": "Lịch trình khai báo của F0, F1 · tỉnh Thừa Thiên Huế",
        "my_cases": "Ca của tôi", "new_case": "Khai báo lịch trình ca mới",
        "clusters": "Ổ dịch có ca của tôi", "f0_cases": "{n} ca F0",
        "others_cases": "{n} ca của người khác", "no_clusters": "Chưa có ổ dịch",
        "followup": "Theo dõi",
        "case_id": "Mã ca", "classification": "Phân loại", "card_id": "Mã thẻ / mã QR cá nhân",
        "stops": "Lịch trình", "stop_n": "Điểm {n}", "venue": "Cơ sở",
        "search_venue": "Tìm cơ sở: tên, địa chỉ, phường/xã, quận/huyện (có dấu hoặc không dấu)",
        "no_venue": "Không tìm thấy cơ sở", "pick_venue": "Chọn một cơ sở trong danh sách",
        "from": "Từ", "to": "Đến", "vn_time": "giờ Việt Nam", "add_stop": "Thêm điểm đến",
        "remove": "Bỏ điểm này", "submit": "Gửi khai báo", "submitted": "Thời gian khai báo",
        "verified": "Có dữ liệu quét", "gap": "Không có dữ liệu quét",
        "gap_should": "{venue} phải quét mã QR cá nhân {card} khi vào và khi ra, từ {from} đến {to}",
        "the_card": "của ca bệnh", "contacts": "Người tiếp xúc", "close": "Tiếp xúc gần",
        "minutes": "phút", "more": "Xem thêm người tiếp xúc", "f1_list": "Danh sách F1",
        "f1_count": "{n} người tiếp xúc gần, mỗi người một lần trên toàn lịch trình",
        "met_at": "Gặp tại", "export_csv": "Tải danh sách F1 (CSV)", "print": "In",
        "revision": "Lần cập nhật", "changes": "Thay đổi", "live": "Đang theo dõi trực tiếp",
        "reconnecting": "Mất kết nối, đang kết nối lại",
        "change_resolved": "Điểm {n}: đã có dữ liệu quét", "change_gap":
        "Điểm {n}: không còn dữ liệu quét", "change_contacts": "Điểm {n}: {from} → {to} người tiếp xúc",
        "change_close": "Điểm {n}: {from} → {to} tiếp xúc gần", "no_change": "Không thay đổi",
        "no_cases": "Chưa có ca nào", "not_answered": "Đang đối chiếu", "pick_case":
        "Chọn một ca hoặc khai báo ca mới", "sent": "Đã gửi", "waiting": "Đã ghi nhận; kết quả sẽ đến sau",
        "import": "Nhập lịch trình từ bảng tính (CSV)",
        "import_help": "Mỗi dòng một điểm đến: Mã ca, Phân loại, Mã thẻ, Mã cơ sở, Từ, Đến "
                       "(giờ Việt Nam, ví dụ 06/12/2021 19:00). Có lỗi ở dòng nào thì không "
                       "nhập dòng nào.",
        "import_send": "Nhập", "import_done": "Đã nhập {n} ca",
        "import_refused": "Bảng tính có {n} lỗi; chưa nhập ca nào", "row": "Dòng",
        "column": "Cột", "problem": "Lỗi", "outcome_opened": "Ca mới",
        "outcome_replaced": "Đã cập nhật", "outcome_unchanged": "Không thay đổi",
        "outcome_accepted": "Đã ghi nhận", "outcome_not_owner": "Ca của người khác",
    },
    "en": {
        "title": "Tracer workbench — itineraries checked against the QR scans",
        "subtitle": "Itineraries declared by F0 and F1 · Thừa Thiên Huế province",
        "my_cases": "My cases", "new_case": "Declare a new case's itinerary",
        "clusters": "Clusters with my cases", "f0_cases": "{n} F0 cases",
        "others_cases": "{n} of other tracers", "no_clusters": "No cluster yet",
        "followup": "Follow-up",
        "case_id": "Case id", "classification": "Classification",
        "card_id": "Card / personal QR id", "stops": "Itinerary", "stop_n": "Stop {n}",
        "venue": "Venue",
        "search_venue": "Find a venue: name, address, ward, district (diacritics optional)",
        "no_venue": "No venue found", "pick_venue": "Pick a venue from the list",
        "from": "From", "to": "To", "vn_time": "Vietnam time", "add_stop": "Add a stop",
        "remove": "Remove this stop", "submit": "Submit", "submitted": "Submitted",
        "verified": "Scan on record", "gap": "No scan on record",
        "gap_should": "{venue} should have scanned the personal QR {card} on entry and exit, "
                      "from {from} to {to}",
        "the_card": "of the case", "contacts": "Contacts", "close": "Close contacts",
        "minutes": "min", "more": "Show more contacts", "f1_list": "F1 list",
        "f1_count": "{n} close contacts, each once over the whole itinerary",
        "met_at": "Met at", "export_csv": "Download the F1 list (CSV)", "print": "Print",
        "revision": "Revision", "changes": "Changes", "live": "Live",
        "reconnecting": "Connection lost, reconnecting",
        "change_resolved": "Stop {n}: a scan is now on record",
        "change_gap": "Stop {n}: no scan on record any more",
        "change_contacts": "Stop {n}: {from} → {to} contacts",
        "change_close": "Stop {n}: {from} → {to} close contacts", "no_change": "No change",
        "no_cases": "No case yet", "not_answered": "Being matched", "pick_case":
        "Pick a case or declare a new one", "sent": "Sent", "waiting": "Recorded; the answer follows",
        "import": "Import itineraries from a spreadsheet (CSV)",
        "import_help": "One row per stop: case id, classification, card id, venue id, from, to "
                       "(Vietnam time, e.g. 06/12/2021 19:00). A sheet with an error in any "
                       "row imports nothing.",
        "import_send": "Import", "import_done": "{n} cases imported",
        "import_refused": "The sheet has {n} errors; no case was imported", "row": "Row",
        "column": "Column", "problem": "Problem", "outcome_opened": "New case",
        "outcome_replaced": "Updated", "outcome_unchanged": "Unchanged",
        "outcome_accepted": "Recorded", "outcome_not_owner": "Another's case",
    },
}


# The inspector's page (``/inspector/``): the directive's đoàn kiểm tra, Tuần cao điểm, cơ sở,
# quét mã QR, and its outcomes (nhắc nhở, tạm dừng hoạt động, xử phạt).
INSPECTOR: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Đoàn kiểm tra — kiểm tra việc quét mã QR tại cơ sở",
        "subtitle": "Thẻ kiểm soát dịch bệnh và ứng dụng PC-COVID · Tuần cao điểm · "
                    "tỉnh Thừa Thiên Huế",
        "district": "Địa bàn", "whole_province": "Toàn tỉnh", "campaign": "Đợt kiểm tra",
        "no_campaign": "Chưa có đợt kiểm tra; tạo một đợt bên dưới",
        "queue": "Danh sách cơ sở cần kiểm tra",
        "queue_help": "Cơ sở chưa kiểm tra và có nguy cơ cao nhất lên trước "
                      "(số liệu 7 ngày qua)",
        "queue_count": "Đã kiểm tra {inspected}/{total} cơ sở", "venue": "Cơ sở",
        "category": "Loại hình", "risk": "Mức nguy cơ", "reasons": "Lý do",
        "status": "Tình trạng", "inspected": "Đã kiểm tra", "not_inspected": "Chưa kiểm tra",
        "record": "Ghi kết quả", "no_venues": "Không có cơ sở nào trong đợt này",
        "new_inspection": "Ghi kết quả kiểm tra",
        "search_venue": "Tìm cơ sở: tên, địa chỉ, phường/xã, quận/huyện (có dấu hoặc không dấu)",
        "no_venue": "Không tìm thấy cơ sở", "pick_venue": "Chọn một cơ sở trong danh sách",
        "observed_from": "Quan sát từ", "observed_to": "đến", "vn_time": "giờ Việt Nam",
        "points": "Số vị trí quét mã QR quan sát được", "counted": "Số người ra vào đếm được",
        "scanned": "Số người được quét mã QR", "outcome": "Kết quả", "notes": "Ghi chú",
        "inspector": "Cán bộ kiểm tra", "save": "Ghi nhận", "recorded": "Đã ghi nhận kết quả kiểm tra {venue}",
        "new_campaign": "Tạo đợt kiểm tra", "campaign_id": "Mã đợt", "campaign_name": "Tên đợt",
        "from_day": "Từ ngày", "to_day": "Đến ngày (tính cả ngày này)",
        "categories": "Loại hình cơ sở", "only_district": "Chỉ địa bàn đang chọn",
        "create": "Tạo đợt", "created": "Đã tạo đợt {name}",
        "default_campaign": "Tuần cao điểm kiểm tra quét mã QR",
        "report": "Báo cáo gửi Sở Thông tin và Truyền thông",
        "report_help": "Số liệu trong thời gian của đợt kiểm tra đang chọn",
        "venues": "Cơ sở", "venues_inspected": "Cơ sở đã kiểm tra",
        "inspections": "Lượt kiểm tra", "coverage": "Tỷ lệ quét (%)",
        "venue_qr_share": "Lượt tự quét mã QR dán (%)", "exit_share": "Tỷ lệ có quét khi ra (%)",
        "silent_entrances": "Vị trí quét không hoạt động",
        "report_csv": "Tải báo cáo (CSV)", "report_html": "Mở báo cáo để in",
        "total": "Tổng",
    },
    "en": {
        "title": "Inspection team — QR scanning checked at the venues",
        "subtitle": "Disease-control cards and the PC-COVID app · inspection week · "
                    "Thừa Thiên Huế province",
        "district": "District", "whole_province": "Whole province", "campaign": "Campaign",
        "no_campaign": "No campaign yet; create one below", "queue": "Inspection queue",
        "queue_help": "Venues not yet inspected and most at risk first (last 7 days' figures)",
        "queue_count": "{inspected}/{total} venues inspected", "venue": "Venue",
        "category": "Category", "risk": "Risk", "reasons": "Reasons", "status": "Status",
        "inspected": "Inspected", "not_inspected": "Not inspected", "record": "Record",
        "no_venues": "No venue in this campaign", "new_inspection": "Record an inspection",
        "search_venue": "Find a venue: name, address, ward, district (diacritics optional)",
        "no_venue": "No venue found", "pick_venue": "Pick a venue from the list",
        "observed_from": "Observed from", "observed_to": "to", "vn_time": "Vietnam time",
        "points": "QR scanning points observed", "counted": "People counted in and out",
        "scanned": "People whose QR was scanned", "outcome": "Outcome", "notes": "Notes",
        "inspector": "Inspector", "save": "Record", "recorded": "Inspection of {venue} recorded",
        "new_campaign": "Create a campaign", "campaign_id": "Campaign id",
        "campaign_name": "Name", "from_day": "From", "to_day": "To (this day included)",
        "categories": "Venue categories", "only_district": "Only the selected district",
        "create": "Create", "created": "Campaign {name} created",
        "default_campaign": "Inspection week: QR scanning",
        "report": "Report to the Department of Information and Communications",
        "report_help": "Figures over the selected campaign's period",
        "venues": "Venues", "venues_inspected": "Venues inspected",
        "inspections": "Inspections", "coverage": "Coverage (%)",
        "venue_qr_share": "Poster self-scans (%)", "exit_share": "Scanned on exit (%)",
        "silent_entrances": "Entrances not scanned",
        "report_csv": "Download the report (CSV)", "report_html": "Open the report to print",
        "total": "Total",
    },
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}")
    return lang


# Where tracers are with a contact (codec/followup.py STATUSES), the directive's words.
FOLLOWUP_STATUSES: dict[str, dict[str, str]] = {
    "vi": {"not_contacted": "Chưa liên hệ", "contacted": "Đã liên hệ",
           "tested": "Đã xét nghiệm", "isolated": "Cách ly"},
    "en": {"not_contacted": "Not contacted", "contacted": "Contacted", "tested": "Tested",
           "isolated": "Isolated"},
}
for _lang, _words in FOLLOWUP_STATUSES.items():  # the workbench shows them as fu_<status>
    WORKBENCH[_lang].update({f"fu_{k}": v for k, v in _words.items()})


def bundle(lang: str) -> dict[str, Any]:
    """Every table of one language, for the dashboard, the workbench and the inspector's page."""
    check_lang(lang)
    return {"categories": CATEGORIES[lang], "outcomes": OUTCOMES[lang],
            "reasons": REASONS[lang], "alert_kinds": ALERT_KINDS[lang],
            "alert_details": ALERT_DETAILS[lang],
            "columns": COLUMNS[lang], "text": TEXT[lang], "ui": UI[lang],
            "workbench": WORKBENCH[lang], "inspector": INSPECTOR[lang]}
