-- access 0003: user profiles: where a user's reports go (email, WeCom and
-- DingTalk user ids, a mobile number for robot mentions) and the language
-- they read them in. A user without a row has an empty profile.
CREATE TABLE IF NOT EXISTS user_profiles (
    username        VARCHAR PRIMARY KEY,
    email           VARCHAR,
    lang            VARCHAR,
    wecom_userid    VARCHAR,
    dingtalk_userid VARCHAR,
    mobile          VARCHAR,
    updated_at      TIMESTAMPTZ NOT NULL
);
