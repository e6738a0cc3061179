"""The assembled portal: server-rendered Chinese pages for cadres, publishers and admins."""
