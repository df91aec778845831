"""The ViSEF/ISEF fields of science and engineering, in English and as ViSEF names them.

Categories are data: this list seeds a school year, and the Union edits each year's list
(through the API or the admin) as the national fair's rules change.
"""

from __future__ import annotations

from dataclasses import dataclass

from projects import services
from projects.models import ProjectCategory

# (English, Vietnamese)
VISEF_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("Animal Sciences", "Khoa học động vật"),
    ("Behavioral and Social Sciences", "Khoa học xã hội và hành vi"),
    ("Biochemistry", "Hóa sinh"),
    ("Biomedical and Health Sciences", "Y sinh và khoa học sức khỏe"),
    ("Biomedical Engineering", "Kỹ thuật y sinh"),
    ("Cellular and Molecular Biology", "Sinh học tế bào và phân tử"),
    ("Chemistry", "Hóa học"),
    ("Computational Biology and Bioinformatics", "Sinh học tính toán và Sinh-Tin"),
    ("Earth and Environmental Sciences", "Khoa học Trái đất và môi trường"),
    ("Embedded Systems", "Hệ thống nhúng"),
    ("Energy: Sustainable Materials and Design", "Năng lượng: Vật liệu và thiết kế bền vững"),
    ("Engineering Technology: Statics and Dynamics", "Kỹ thuật cơ khí"),
    ("Environmental Engineering", "Kỹ thuật môi trường"),
    ("Materials Science", "Khoa học vật liệu"),
    ("Mathematics", "Toán học"),
    ("Microbiology", "Vi sinh"),
    ("Physics and Astronomy", "Vật lý và thiên văn"),
    ("Plant Sciences", "Khoa học thực vật"),
    ("Robotics and Intelligent Machines", "Rô-bốt và máy thông minh"),
    ("Systems Software", "Phần mềm hệ thống"),
    ("Translational Medical Science", "Y học chuyển dịch"),
)


@dataclass(frozen=True)
class LoadResult:
    year: int
    created: int
    existing: int


def load_categories(*, year: int, from_year: int | None = None) -> LoadResult:
    """Give `year` its categories: the built-in list, or the (edited) list of `from_year`.

    Safe to run again: a category already there (same year and English name) is left as
    it is, so the Union's edits survive.
    """
    if from_year is None:
        rows = [(name_en, name_vi, True) for name_en, name_vi in VISEF_CATEGORIES]
    else:
        rows = list(ProjectCategory.objects.filter(year=from_year)
                    .values_list("name_en", "name_vi", "is_active"))
    have = {name.casefold() for name in
            ProjectCategory.objects.filter(year=year).values_list("name_en", flat=True)}
    created = 0
    for name_en, name_vi, is_active in rows:
        if name_en.casefold() in have:
            continue
        services.category_save(actor=None, name_en=name_en, name_vi=name_vi, year=year,
                               is_active=is_active)
        created += 1
    return LoadResult(year=year, created=created, existing=len(rows) - created)
