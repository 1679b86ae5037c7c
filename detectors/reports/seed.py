"""Example reports per hazard category, so the report classifier works from cold start.

A few short sentences per category in English and Chinese, written as
residents and grid workers phrase them. They are a starting point: operator
corrections (``ReportCategoryClassifier.learn_one``) soon outweigh them.
"""

from __future__ import annotations

from schemas.hazard import Hazard

SEED_REPORTS: dict[Hazard, tuple[str, ...]] = {
    Hazard.FLOOD: (
        "water is rising in the street and flooding the underground garage",
        "the river is over the bank, the road is under water",
        "heavy rain, drains overflowing, basement flooded knee deep",
        "积水很深，地下车库被淹了",
        "河水上涨漫过堤岸，道路被淹",
    ),
    Hazard.FIRE: (
        "smoke and flames coming from the third floor window",
        "fire in the kitchen of the restaurant, black smoke",
        "something is burning, strong smell of smoke in the stairwell",
        "楼道里有浓烟，好像着火了",
        "电动车起火，火势很大",
    ),
    Hazard.GAS_LEAK: (
        "strong smell of gas in the building, maybe a gas leak",
        "gas pipe hissing near the meter, smells like rotten eggs",
        "neighbours smell gas, the gas alarm is beeping",
        "楼道里有很重的煤气味，燃气泄漏",
        "燃气管道漏气，报警器在响",
    ),
    Hazard.AIR_POLLUTION: (
        "thick haze and dust, hard to breathe outside",
        "factory chimney releasing yellow smoke, air smells of chemicals",
        "construction site dust everywhere, air quality is terrible",
        "雾霾很重，空气很差",
        "工地扬尘严重，呛得喘不过气",
    ),
    Hazard.STRUCTURAL: (
        "large crack in the wall of the old building, plaster falling",
        "the balcony is sagging and the ceiling is cracking",
        "retaining wall leaning after the rain, risk of collapse",
        "墙体出现大裂缝，有倒塌危险",
        "老楼外墙脱落，阳台开裂",
    ),
    Hazard.POWER_OUTAGE: (
        "the whole block has no electricity, power is out",
        "blackout since the storm, street lights off",
        "power cut in the building, elevator stopped",
        "小区停电了，电梯停运",
        "整栋楼没电，路灯也不亮",
    ),
    Hazard.PUBLIC_SECURITY: (
        "a fight in the square, people are injured",
        "someone is breaking into cars in the parking lot",
        "large crowd gathering and pushing near the gate",
        "广场有人打架斗殴",
        "有人撬车门，形迹可疑",
    ),
    Hazard.PUBLIC_HEALTH: (
        "several neighbours sick with vomiting after the canteen lunch",
        "tap water is brown and smells bad, people feel ill",
        "many children with fever in the kindergarten",
        "多人食物中毒，呕吐腹泻",
        "自来水发黄有异味",
    ),
    Hazard.DEVICE_FAULT: (
        "the water level sensor on the bridge is broken and shows nothing",
        "the smoke detector keeps beeping with no smoke, faulty device",
        "monitoring camera and sensor box damaged, cable cut",
        "监测设备坏了，传感器没有读数",
        "报警器误报，设备故障",
    ),
    Hazard.OTHER: (
        "a stray dog is wandering in the courtyard",
        "garbage has not been collected for days",
        "noise from the neighbours late at night",
        "垃圾很多天没人清理",
        "晚上噪音扰民",
    ),
}
"""Bootstrap examples by category: five each, three English and two Chinese."""
