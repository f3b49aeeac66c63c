"""Reading results rather than producing them: lost points (失分分析), early warnings (预警),
risk grades (风险分级), trends, what-if (模拟测算) and each unit's feedback report (绩效反馈报告).

Every number here is one the engine published (`dsl.engine`: results and their traces); nothing
is scored a second way. May import every stage below it (`dsl.syntax`, `dsl.check`, `dsl.fmt`,
`dsl.compile`, `dsl.facts`, `dsl.engine`), never `dsl.audit` or `app`.
"""
