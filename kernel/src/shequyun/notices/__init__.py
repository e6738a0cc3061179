"""In-portal notices for cadres (新任务, 催报提醒, 退回, 即将截止), from the collection events."""
