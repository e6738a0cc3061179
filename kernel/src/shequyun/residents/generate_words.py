"""The word lists synthetic residents are drawn from: surnames, given names by generation,
birthplaces, phone prefixes, compound and road names, each weighted as it is found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")


# -- weighted word lists --------------------------------------------------------------------


def weighted_bag(pairs: Iterable[tuple[T, float]], size: int = 2000) -> tuple[T, ...]:
    """A tuple where each value appears in proportion to its weight: one index draws it."""
    items = list(pairs)
    total = sum(w for _, w in items)
    bag: list[T] = []
    for value, weight in items:
        bag += [value] * max(1, round(weight / total * size))
    return tuple(bag)


def ranked(words: str, top: Sequence[float], tail: tuple[float, float]) -> tuple[str, ...]:
    """Surnames by rank: the first ones with the given shares (%), the rest tapering off."""
    chars = [c for c in words if not c.isspace()]
    rest = len(chars) - len(top)
    shares = [*top, *(tail[0] - (tail[0] - tail[1]) * i / max(rest - 1, 1) for i in range(rest))]
    return weighted_bag(zip(chars, shares, strict=True))


NATIONAL_SURNAMES = ranked(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严武戴莫孔向汤",
    (7.1, 7.0, 6.7, 5.3, 4.5, 3.1, 2.2, 2.0, 2.0, 1.9, 1.3, 1.2, 1.1, 1.1, 1.0, 1.0, 0.9, 0.9),
    (0.85, 0.15),
)
SHANGHAI_SURNAMES = ranked(
    "张王陈李朱徐周沈陆顾吴刘杨黄金胡钱孙蒋姚曹施潘丁严许倪马范唐袁邵谢龚汤戴郁杜瞿奚俞宋叶"
    "程冯赵夏蔡方孔毛",
    (5.5, 5.4, 5.0, 3.8, 3.6, 3.4, 3.1, 3.0, 2.7, 2.6, 2.4, 2.2, 2.1, 2.0, 1.7, 1.5, 1.4),
    (1.4, 0.3),
)

# Given names by the decade's fashion: (last birth year, male two-character, female
# two-character, male single, female single, share of single-character names).
GIVEN_NAMES = (
    (
        1949,
        "建国 国华 国强 志明 德明 文华 福根 根宝 金宝 荣根 家骏 永康 志刚 宝林 明德 富根 阿毛 "
        "德林 炳生 荣生 金龙 福生 仁杰 守义 世昌 文彬 庆华 关兴",
        "秀英 桂英 玉兰 秀珍 凤英 美英 金妹 阿英 雪珍 月娥 彩凤 招娣 翠英 素珍 杏娣 桂珍 秀兰 "
        "玉珍 宝娣 凤珍 林娣 惠珍 佩珍 月英 根娣 美娣 瑞英 玉英",
        "根福林明德荣昌华生祥",
        "英珍兰娣芳妹凤梅",
        0.15,
    ),
    (
        1964,
        "建国 建华 国庆 国平 卫东 建军 志强 跃进 建平 永明 海荣 国良 建新 卫国 解放 援朝 和平 "
        "庆丰 志华 伟民 德华 兴华 金林 振华 光明 建明",
        "秀英 桂芳 玉珍 凤英 丽华 美华 建英 红英 素芳 秀芳 凤珍 玉兰 金凤 美玲 亚萍 雅芳 月华 "
        "美娟 翠华 玲娣",
        "军强明华平伟国勇忠林",
        "英芳萍兰华敏娟玲",
        0.3,
    ),
    (
        1979,
        "卫东 红军 建军 志强 伟民 海峰 建华 卫国 文斌 永刚 国平 晓明 建伟 立新 卫平 志勇 国华 "
        "海涛 建忠 剑锋",
        "红梅 丽华 卫红 红英 海燕 美华 丽萍 慧芳 雪梅 春燕 晓红 丽娟 红霞 秀丽 建芳 美玲 丽君 "
        "晓燕 静芳 爱华",
        "勇军伟强明华斌刚平杰峰",
        "敏萍红静丽芳燕霞娟英",
        0.4,
    ),
    (
        1994,
        "晓东 志伟 海峰 晓峰 建峰 文杰 伟杰 俊杰 志刚 海涛 晓明 振宇 佳俊 家豪 嘉伟 立伟 明杰 天翔",
        "晓燕 丽娜 婷婷 晓丽 佳佳 雯雯 丽丽 燕萍 晓雯 佳敏 海燕 琳琳 静怡 倩倩 莉莉 晶晶 思佳 丹丹",
        "伟磊勇杰涛斌强鹏俊超浩骏峰",
        "静敏燕婷晶雯洁琳佳颖倩丽蕾莉",
        0.4,
    ),
    (
        2009,
        "俊杰 浩然 宇航 天宇 嘉豪 博文 志豪 子健 文博 浩宇 宇轩 家俊 一鸣 晨阳 思远 嘉诚 子豪",
        "欣怡 诗涵 雨婷 佳琪 梦琪 思琪 雨欣 佳怡 心怡 子怡 诗雨 思佳 晓雯 佳慧 雨涵 嘉怡 梦洁 欣妍",
        "浩宇杰晨昊鑫磊凯睿轩",
        "婧玥琪怡欣悦妍萱雯",
        0.25,
    ),
    (
        9999,
        "浩然 梓轩 宇轩 子轩 一诺 沐阳 俊熙 浩宇 奕辰 子墨 皓轩 梓睿 宇辰 铭泽 思源 子涵",
        "子涵 欣怡 梓涵 诗涵 一诺 雨桐 可馨 语桐 梓萱 芷若 依诺 思彤 若汐 欣妍 沐晨",
        "睿宸泽轩辰煜",
        "萱彤琪悦瑶涵",
        0.15,
    ),
)
COHORTS = tuple(
    (last, {"male": m2.split(), "female": f2.split()}, {"male": list(m1), "female": list(f1)}, p)
    for last, m2, f2, m1, f1, p in GIVEN_NAMES
)

# Birthplace codes (the first six digits): Shanghai's districts, old ones included, and the
# prefectures most of Shanghai's migrants come from, with a county suffix drawn separately.
SHANGHAI_DISTRICTS = (  # noqa: SIM905 - a word list reads best as words
    "310101 310104 310105 310106 310107 310109 310110 310112 310113 310114 310115 310116 "
    "310117 310118 310120 310151 310103 310108"
).split()
ORIGINS = weighted_bag(
    (code, weight)
    for codes, weight in (
        ("3412 3413 3416 3401 3411 3408 3415 3418", 3.0),  # 安徽
        ("3206 3209 3203 3213 3208 3212", 2.4),  # 江苏
        ("4115 4116 4113 4114 4117", 1.8),  # 河南
        ("5113 5116 5119 5110 5001", 1.2),  # 四川, 重庆
        ("3611 3604 3610 3303 3306 3310", 1.1),  # 江西, 浙江
        ("4209 4211 3713 3708 3715 3505 3506 4305 4309", 0.8),  # 湖北, 山东, 福建, 湖南
    )
    for code in codes.split()
)
COUNTIES = ("02", "03", "21", "22", "23", "24", "25", "26", "27", "81", "82")
MOBILE_PREFIXES = (  # noqa: SIM905
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "173 176 177 180 181 182 183 185 186 187 188 189 191 198 199"
).split()

# Ages of people aged 60 and over (Shanghai 2020: a sixth of them 80 or older).
ELDER_AGES = weighted_bag(
    ((lo, hi), w)
    for lo, hi, w in (
        (60, 65, 31), (65, 70, 28), (70, 75, 17), (75, 80, 10),
        (80, 85, 7), (85, 90, 4.5), (90, 95, 2), (95, 102, 0.5),
    )
)  # fmt: skip

COMPOUND_WORDS = (  # noqa: SIM905
    "康乐 梅园 潍坊 长乐 新华 枫林 樱花 友谊 和平 幸福 翠竹 金桥 东方 锦绣 春晖 紫藤 桂林 兰花 "
    "玉兰 海棠 丽园 华庭 绿洲 景苑 银杏 香樟 青松 曙光 朝阳 永安 吉祥 安居 复兴 碧云 晨光 松鹤 "
    "嘉园 怡景 梧桐 东风 南苑 春申 书香 湖滨 仁和 宜居 泰和 滨江 天钥 田林 康健 长桥 凌云"
).split()
COMPOUND_SUFFIXES = weighted_bag(
    (("一村", 3), ("二村", 2), ("三村", 1), ("新村", 3), ("小区", 3), ("花园", 2), ("苑", 2),
     ("公寓", 1), ("大楼", 0.5))
)  # fmt: skip
ROAD_WORDS = (  # noqa: SIM905
    "宛平南 建国西 天平 衡山 永嘉 康平 高安 乌鲁木齐南 吴兴 岳阳 肇嘉浜 零陵 田林东"
).split()
