-- Runs once, on an empty data volume: Airflow's metadata and Dyad's store are separate databases
-- (Airflow's workers are not allowed to touch Airflow's own database).
CREATE DATABASE dyad;
