-- SMSLeopard sample data, loaded into a new database (one without customers).
-- Times are relative to the moment of loading, so the demo always looks current.

INSERT INTO customers (phone, first_name, last_name, location, preferred_product, created_at, timezone) VALUES
    ('+254712000001', 'Amina',   'Otieno',  'Nairobi',  'Running Shoes',   strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days'), 'Africa/Nairobi'),
    ('+254712000002', 'Brian',   'Kamau',   'Mombasa',  'Smartphone',      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-29 days'), 'Africa/Nairobi'),
    ('+254712000003', 'Chloé',   'Wanjiru', 'Nairobi',  'Coffee Beans',    strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-28 days'), 'Africa/Nairobi'),
    ('+254712000004', 'David',   NULL,      'Kisumu',   'Running Shoes',   strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-27 days'), 'Africa/Nairobi'),
    ('+254712000005', '',        'Njoroge', 'Nakuru',   'Solar Lamp',      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-26 days'), 'Africa/Nairobi'),
    ('+254712000006', 'Fatuma',  'Hassan',  NULL,       'Smartphone',      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-25 days'), 'Africa/Nairobi'),
    ('+254712000007', 'George',  'Mwangi',  'Nairobi',  NULL,              strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-24 days'), 'Africa/Nairobi'),
    ('+254712000008', 'Halima',  'Abdi',    'Mombasa',  '',                strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-23 days'), 'Africa/Nairobi'),
    ('+254712000009', 'Ivan',    'Petrov',  'Eldoret',  'Coffee Beans',    strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-22 days'), 'Africa/Nairobi'),
    ('+254712000010', 'Joy',     'Achieng', 'Kisumu',   'Solar Lamp',      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-21 days'), 'Africa/Nairobi'),
    ('+254712000011', NULL,      NULL,      NULL,       NULL,              strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-20 days'), 'UTC'),
    -- No country has calling code +999: the mock provider fails this number permanently.
    ('+999700000012', 'Kofi',    'Mensah',  'Nairobi',  'Smartphone',      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-19 days'), 'Africa/Accra'),
    -- Customers abroad: quiet hours (--quiet-hours) follow each customer's own clock.
    ('+447700900013', 'Olivia',  'Bennett', 'London',   'Coffee Beans',    strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-18 days'), 'Europe/London'),
    ('+12125550114',  'Marcus',  'Lee',     'New York', 'Running Shoes',   strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-17 days'), 'America/New_York');

-- Halima replied STOP three days ago: every send from now on suppresses her message.
UPDATE customers SET opted_out_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-3 days') WHERE phone = '+254712000008';

INSERT INTO campaigns (name, channel, status, base_template, scheduled_at, created_at, updated_at) VALUES
    ('Black Friday preview', 'sms', 'sent',
     'Hi {first_name|there}, Black Friday starts early for you: 20% off {preferred_product|everything}!',
     NULL,
     strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')),
    ('Nairobi store opening', 'whatsapp', 'scheduled',
     'Hello {first_name|friend} {last_name}! Our new {location} store opens tomorrow. Come see the {preferred_product|latest deals}.',
     strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 hour'),
     strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')),
    ('Holiday greetings', 'sms', 'draft',
     'Season''s greetings, {first_name}! Thank you for choosing us for your {preferred_product}. {{SMSLeopard}}',
     NULL,
     strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

-- The finished campaign: everyone but the +999 number got the message.
INSERT INTO outbound_messages (campaign_id, customer_id, status, rendered_content, last_error, retry_count,
                               created_at, updated_at)
SELECT 1, id,
       CASE WHEN phone LIKE '+999%' THEN 'failed' ELSE 'sent' END,
       'Hi ' || coalesce(nullif(trim(first_name), ''), 'there') || ', Black Friday starts early for you: 20% off '
             || coalesce(nullif(trim(preferred_product), ''), 'everything') || '!',
       CASE WHEN phone LIKE '+999%' THEN 'no route to ' || phone
            WHEN id = 2 THEN 'provider timeout' END,  -- sent on its second attempt
       CASE WHEN id = 2 THEN 1 ELSE 0 END,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')
FROM customers;

-- The scheduled campaign waits with its Nairobi audience.
INSERT INTO outbound_messages (campaign_id, customer_id, created_at, updated_at)
SELECT 2, id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
FROM customers WHERE location = 'Nairobi';

UPDATE campaigns SET
    started_at   = CASE WHEN id = 1 THEN created_at END,
    finished_at  = CASE WHEN id = 1 THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days', '+2 minutes') END,
    total_count  = (SELECT count(*) FROM outbound_messages WHERE campaign_id = campaigns.id),
    sent_count   = (SELECT count(*) FROM outbound_messages WHERE campaign_id = campaigns.id AND status = 'sent'),
    failed_count = (SELECT count(*) FROM outbound_messages WHERE campaign_id = campaigns.id AND status = 'failed');
